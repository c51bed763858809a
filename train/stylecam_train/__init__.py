"""The training recipe that produces stylecam style files (imports realtime, never the reverse)."""
