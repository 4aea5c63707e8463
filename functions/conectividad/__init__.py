"""Conectividad: the bank-facing API. One Lambda per endpoint; the logic lives in ``queries``."""
