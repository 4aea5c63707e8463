"""Conectividad: the bank-facing API. One Lambda per endpoint; the logic lives in ``queries``."""

import recaudo  # noqa: F401  (first: Powertools' packages load lazily, recaudo/_lazy_powertools.py)
