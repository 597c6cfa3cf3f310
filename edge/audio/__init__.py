"""Audio input: WAV files, live capture, resampling to the front-end rate."""
