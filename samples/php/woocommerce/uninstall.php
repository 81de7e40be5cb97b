<?php
/*
 * Deleting the plugin (Plugins > Delete) removes what it stored in the
 * options table: its settings, which hold the connection string and so the
 * secret, and the last error. Order meta (_cashback_*) stays with the
 * orders, where it documents what was reported. The spool is the
 * extension's and is left alone.
 */
defined('WP_UNINSTALL_PLUGIN') || exit;

delete_option('cashback_wc_settings');
delete_option('cashback_wc_last_error');
delete_transient('cashback_wc_test_result');
if (function_exists('as_unschedule_all_actions')) {
    as_unschedule_all_actions('cashback_wc_flush', [], 'cashback');
}
