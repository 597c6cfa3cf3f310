# Learned syllable counter (issue #2): train + LOSO-score + export, and its benchmark.
#   make syllables        - LOSO scores, then the fit on all speakers -> models/syllables-v1.npz/.json
#   make bench-syllables  - learned counter (LOSO, clean/phone/noisy) vs intensity peaks on EmoDB
.PHONY: syllables bench-syllables

syllables: $(STAMP)
	$(PY) -m models.train_syllables --loso

bench-syllables: $(STAMP)
	$(PY) -m bench.emodb_syllables
