"""Evaluation maths: account equity, performance measures, the deflated Sharpe, report writers.

Pure functions on pandas/numpy that run no process and know Freqtrade only through the shape
of its exported trades. The walk-forward harness (:mod:`trading_agent.launch.walk_forward`)
and the strategy comparison (:mod:`trading_agent.launch.evaluate_strategies`) build on them.
"""
