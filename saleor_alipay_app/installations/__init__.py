"""Installations: the register handshake, the installation store, webhook authentication, and
what every route and command is handed."""
