"""What the merchant reads in the privacy panel when an erasure could not do everything (one
place for the sentences, like integrations/klaviyo/messages.py). No personal data: at most the
Klaviyo profile ids, which name a record in the merchant's own Klaviyo account so they can
find and delete it there."""

from __future__ import annotations

from integrations.klaviyo.errors import KlaviyoError

NOT_CONNECTED = ("Klaviyo is not connected, so nothing was sent there. If this shopper was "
                 "synced to your Klaviyo account earlier, delete their profile in Klaviyo.")
HELD_UNINSTALLED = ("The app is uninstalled, so nothing was sent to Klaviyo yet. If you "
                    "reinstall, the app asks Klaviyo to erase this shopper; otherwise delete "
                    "their profile in Klaviyo yourself.")
WAITING_FOR_CONNECTION = ("Waiting for your Klaviyo connection: the erasure is sent to Klaviyo "
                          "as soon as the connection works again.")
KEY_UNREADABLE = ("The stored Klaviyo key can no longer be read, so nothing was sent to "
                  "Klaviyo. Reconnect Klaviyo and delete this shopper's profile there.")


def unsubscribed(profile_ids: list[str]) -> str:
    named = f" (Klaviyo profile {', '.join(profile_ids)})" if profile_ids else ""
    return ("Klaviyo still holds this shopper's profile" + named + ": the app unsubscribed it "
            "from email and SMS marketing and took it off your list, but your Klaviyo key "
            "lacks the data-privacy:write scope, so it could not delete it. To finish the "
            "erasure, delete the profile in Klaviyo (open the profile, then Delete), and add "
            "that scope to the key so the next request is deleted automatically.")


def failed(error: KlaviyoError) -> str:
    return ("Klaviyo refused the erasure request, so the shopper's Klaviyo profile may remain. "
            f"Delete it in Klaviyo. (Klaviyo error {error.error_id or error.kind}.)")
