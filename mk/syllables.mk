# Learned syllable counter (issues #2, #11): train + held-out scores + export, and its benchmarks.
#   make syllables        - synthesise the espeak-ng training speech into .cache/espeak-syllables
#                           (once), held-out scores (five speaker groups over EmoDB + RAVDESS,
#                           espeak-ng always in training), then the fit on all speakers ->
#                           models/syllables-v1.npz/.json (about an hour on the loaded box)
#   make bench-syllables  - learned counter (LOSO, clean/phone/noisy) vs intensity peaks on EmoDB
#   make bench-syllables-all - both corpora and espeak-ng English at 100-300 wpm vs the targets
.PHONY: syllables bench-syllables bench-syllables-all

syllables: $(STAMP)
	$(PY) -m models.espeak_corpus
	nice -n 10 $(PY) -m models.train_syllables --loso --groups 5

bench-syllables: $(STAMP)
	$(PY) -m bench.emodb_syllables

bench-syllables-all: $(STAMP)
	$(PY) -m bench.syllable_bench
