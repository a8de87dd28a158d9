"""Speaking: pyttsx3 (espeak-ng) synthesis to audio, sounddevice playback, speech settings.

Submodules import their engines lazily so `assistant ask --no-speak` never loads espeak or PortAudio.
"""
