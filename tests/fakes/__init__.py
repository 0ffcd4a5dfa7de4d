"""Fakes of outside services, served on loopback ports for the tests."""
