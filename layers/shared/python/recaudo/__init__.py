"""recaudo shared layer: models, money, dates, data access, auth and observability."""

from recaudo import _lazy_powertools

# first, before anything imports Powertools' event handler (every function package imports recaudo first)
_lazy_powertools.install()
