# Prosody model (issue #3): train + LOSO-evaluate + int8 export, and its benchmark.
#   make model        - full pipeline on EmoDB -> models/prosody-v1.tflite + models/prosody-v1.json
#   make bench-model  - LOSO (float/int8, raw/baseline) vs the eGeMAPS+SVM anchor, size, invoke time
.PHONY: model bench-model

model: $(STAMP)
	$(PY) -m models.train

bench-model: $(STAMP)
	$(PY) -m bench.model_bench
