#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_corpus.sh - mxwall scan against the third-party MTA log corpus in
# selftests/scan/corpus (see corpus_check.py for what is asserted). Fails
# loudly when the corpus or python3 is missing.
cd "$(dirname "$0")/../.." || exit 1
if ! command -v python3 >/dev/null; then
	echo "ERROR: python3 is required"
	echo "0 passed, 1 failed"
	exit 1
fi
exec python3 selftests/scan/corpus_check.py
