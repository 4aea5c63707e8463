"""The TOKEN authorizer shared by every bank-facing route."""
