"""Clients of the upstream systems we call (httpx), each behind a port of the logic."""
