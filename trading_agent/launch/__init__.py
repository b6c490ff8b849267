"""Process orchestration for the offline workflows: the venue next to Freqtrade."""
