"""The Textual app: renders engine events and sends intents back."""
