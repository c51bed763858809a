"""The styles that ship with stylecam, installed as package data (see README.md here)."""
