"""`assistant serve`: the assistant as a Wyoming service (speech to text, conversation, text to speech) for
Home Assistant's voice satellites and the assistant's own room satellites, one conversation per room.

wire.py reads events within size and time limits; audio_in.py converts announced PCM formats; rooms.py keeps
one dialog per conversation; programs.py describes what is offered; server.py answers each connection;
client.py is the satellite's side (asr and handle over Wyoming)."""
