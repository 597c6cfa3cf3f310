# Learned syllable counter (issues #2, #11): train + held-out scores + export, and its benchmarks.
#   make syllables        - held-out scores (speaker groups over EmoDB + RAVDESS), then the fit on
#                           all speakers -> models/syllables-v1.npz/.json
#   make bench-syllables  - learned counter (LOSO, clean/phone/noisy) vs intensity peaks on EmoDB
#   make bench-syllables-all - both corpora and espeak-ng English at 100-300 wpm vs the targets
.PHONY: syllables bench-syllables bench-syllables-all

syllables: $(STAMP)
	nice -n 10 $(PY) -m models.train_syllables --loso

bench-syllables: $(STAMP)
	$(PY) -m bench.emodb_syllables

bench-syllables-all: $(STAMP)
	$(PY) -m bench.syllable_bench
