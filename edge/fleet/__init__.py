"""The device side of fleet provisioning: enrollment, signed config, signed model updates, cmds.

Pure components with thin I/O behind small protocols:

* :mod:`edge.fleet.signing`: canonical JSON and Ed25519 signed envelopes (shared with
  ``broker.fleet``, which signs).
* :mod:`edge.fleet.documents`: what a signed config and a signed model manifest must say.
* :mod:`edge.fleet.config_keeper`: verify/apply config, refuse older/unsigned/tampered/expired,
  keep the last good one on disk.
* :mod:`edge.fleet.model_update`: resumable download, verify, write beside, self-test, atomic
  swap, rollback.
* :mod:`edge.fleet.enroll`: key + CSR + one-time token -> certificate.
* :mod:`edge.fleet.cmds`: ``identify`` and ``recalibrate``.
* :mod:`edge.fleet.agent`: routes the device's ``config`` and ``cmd`` messages to the above.
"""
