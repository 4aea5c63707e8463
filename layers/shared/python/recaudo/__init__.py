"""recaudo shared layer: models, money, dates, data access, auth and observability."""
