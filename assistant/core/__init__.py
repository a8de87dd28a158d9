"""The pure core: content, understanding, triage and dialog. No audio, device or engine imports here."""
