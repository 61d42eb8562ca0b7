#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_postfix_journal.sh - test_postfix_e2e.sh with the watcher reading
# the journal (log = journal): a real Postfix's lines reach journal files
# written live by systemd-journal-remote with the fields journald sets;
# forged lines of a local user are ignored; a restart loses nothing.
E2E_VIA=journal exec "$(dirname "$0")/test_postfix_e2e.sh"
