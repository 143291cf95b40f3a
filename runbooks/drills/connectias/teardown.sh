#!/bin/sh
# Stops the gpg-agent the signing key started; the folder itself is removed by runbook-tui.
gpgconf --kill all 2>/dev/null || true
