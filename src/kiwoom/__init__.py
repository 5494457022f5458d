"""Typed SDK for the Kiwoom Securities REST and WebSocket API."""
