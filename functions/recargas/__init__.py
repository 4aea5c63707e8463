"""CPS recargas: channels top up basic services; we forward each top-up to the carrier exactly once."""

import recaudo  # noqa: F401  (first: Powertools' packages load lazily, recaudo/_lazy_powertools.py)
