"""The one delivery pipeline every kind of outbound work runs on (see docs/delivery.md)."""
