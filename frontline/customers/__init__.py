"""The customer API: a host application's signed-in users read and write their own support
conversations, authenticated by short-lived tokens the host's backend signs."""
