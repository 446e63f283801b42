#!/bin/sh
# Example hook: applies the published revision.
exec kubectl apply -R -f "${OCISYNC_REVISION_DIR:-.}"
