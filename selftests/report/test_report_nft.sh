#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_report_nft.sh - test_report_e2e.sh on the nftables backend: the
# report, reset and metrics read the same figures from either backend.
REPORT_BACKEND=nft exec "$(dirname "$0")/test_report_e2e.sh" "$@"
