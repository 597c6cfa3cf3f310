"""Fleet provisioning: CA and signing keys, device registry, enrollment, bundles, revocation,
signed config and model pushes (``poise fleet``). See docs/fleet.md."""
