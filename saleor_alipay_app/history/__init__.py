"""The history of every state change, written in the same transaction as the change."""
