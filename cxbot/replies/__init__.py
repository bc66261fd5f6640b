"""Replying to the customer from Slack: drafts, provider reply clients, delivery (issue 17)."""
