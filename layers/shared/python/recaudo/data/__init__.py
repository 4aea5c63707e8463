"""DynamoDB data access. See docs/data-model.md for the access patterns behind every key."""
