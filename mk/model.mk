# Prosody model (issues #3, #11): train + speaker-independent evaluation + int8 export, benchmarks.
#   make model        - EmoDB + RAVDESS -> models/prosody-v1.tflite + models/prosody-v1.json (final
#                       model first, then LOSO per corpus, both cross-corpus folds, LOSO on the
#                       union; the card is rewritten after each protocol)
#   make bench-model  - every protocol (float/int8, raw/baseline) vs the eGeMAPS+SVM anchor
#                       (raw/speaker-z) on the same folds, size, invoke time
#   make bench-voices - speaker-change detection (voice signatures) on both corpora
#   make bench-pitch-ravdess - F0 against Praat on the RAVDESS actors
.PHONY: model bench-model bench-voices bench-pitch-ravdess

model: $(STAMP)
	nice -n 10 $(PY) -m models.train

bench-model: $(STAMP)
	$(PY) -m bench.model_bench

bench-voices: $(STAMP)
	$(PY) -m bench.voice_change

bench-pitch-ravdess: $(STAMP)
	$(PY) -m bench.f0_vs_praat --corpus ravdess
