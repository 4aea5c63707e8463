import recaudo  # noqa: F401  (first: Powertools' packages load lazily, recaudo/_lazy_powertools.py)
