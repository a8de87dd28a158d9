"""What caregivers use around the assistant: the alert, the conversation log, the health checks, the
systemd unit and content reloading."""
