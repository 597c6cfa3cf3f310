"""The on-device loop: pipeline, runner, event sinks, agent baseline, arousal, systemd."""
