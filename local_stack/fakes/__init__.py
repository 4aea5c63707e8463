"""Fakes of the external systems the app calls, served on loopback beside the local stack."""
