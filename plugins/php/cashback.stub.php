<?php

/**
 * PHP signatures of the cashback extension (libcashback for PHP).
 * cashback_arginfo.h is generated from this file by PHP's gen_stub.php
 * (see gen_arginfo.sh); docs/php.md documents every function.
 *
 * @generate-class-entries
 */

namespace Cashback {

    /**
     * Landing: looks for a click token in $query (a raw query string or a
     * request target; null: this request's query string) and, when there is
     * one, sends the signed first-party Set-Cookie header (unless $send is
     * false). Returns the Set-Cookie value, or null when there is no valid
     * token (a malformed one throws only when $strict).
     */
    function capture(?string $query = null, bool $send = true, bool $strict = false): ?string {}

    /**
     * Checkout: the click handle read back from the click cookie
     * ($cookie_header is a raw Cookie header; null: this request's): an
     * opaque string to store with the order and pass as the sale's 'click'.
     * Null when there is no click, or (unless $strict) when it is expired,
     * tampered or malformed.
     */
    function click(?string $cookie_header = null, bool $strict = false): ?string {}

    /** Reports a paid order; returns the event id (32 hex digits). */
    function sale(array $order): string {}

    /** Reports a refund (in part or whole); returns the event id. */
    function refund(array $refund): string {}

    /** Reports that the whole order is void; returns the event id. */
    function cancel(array $order): string {}

    /** Reports that the order is final (return window over); returns the event id. */
    function confirm(array $order): string {}

    /** What the spool and the sender are doing. */
    function status(): array {}

    /**
     * Sends what is in the spool now, for at most $timeout_ms. True when the
     * spool is empty; false when events remain (another process is sending,
     * or time ran out); throws when the network failed or refused.
     */
    function flush(int $timeout_ms = 10000): bool {}

    /** The quarantined (rejected) events, oldest first. */
    function quarantine(): array {}

    /** Puts quarantined events (null: all) back into the spool; returns how many. */
    function replay(?string $id = null): int {}

    /**
     * An error of libcashback: getCode() is the SDK's status code (one of
     * the constants below), getMessage() the detail.
     */
    class Exception extends \Exception
    {
        /**
         * @var int
         * @cvalue CASHBACK_E_INVALID_ARGUMENT
         */
        public const INVALID_ARGUMENT = UNKNOWN;
        /**
         * @var int
         * @cvalue CASHBACK_E_NOMEM
         */
        public const NOMEM = UNKNOWN;
        /**
         * @var int
         * @cvalue CASHBACK_E_CONFIG
         */
        public const CONFIG = UNKNOWN;
        /**
         * @var int
         * @cvalue CASHBACK_E_CLICK_NONE
         */
        public const CLICK_NONE = UNKNOWN;
        /**
         * @var int
         * @cvalue CASHBACK_E_CLICK_EXPIRED
         */
        public const CLICK_EXPIRED = UNKNOWN;
        /**
         * @var int
         * @cvalue CASHBACK_E_CLICK_TAMPERED
         */
        public const CLICK_TAMPERED = UNKNOWN;
        /**
         * @var int
         * @cvalue CASHBACK_E_CLICK_MALFORMED
         */
        public const CLICK_MALFORMED = UNKNOWN;
        /**
         * @var int
         * @cvalue CASHBACK_E_AMOUNT
         */
        public const AMOUNT = UNKNOWN;
        /**
         * @var int
         * @cvalue CASHBACK_E_CURRENCY
         */
        public const CURRENCY = UNKNOWN;
        /**
         * @var int
         * @cvalue CASHBACK_E_FIELD
         */
        public const FIELD = UNKNOWN;
        /**
         * @var int
         * @cvalue CASHBACK_E_TOO_BIG
         */
        public const TOO_BIG = UNKNOWN;
        /**
         * @var int
         * @cvalue CASHBACK_E_CRYPTO
         */
        public const CRYPTO = UNKNOWN;
        /**
         * @var int
         * @cvalue CASHBACK_E_IO
         */
        public const IO = UNKNOWN;
        /**
         * @var int
         * @cvalue CASHBACK_E_INTERNAL
         */
        public const INTERNAL = UNKNOWN;
        /**
         * @var int
         * @cvalue CASHBACK_E_SPOOL_FULL
         */
        public const SPOOL_FULL = UNKNOWN;
        /**
         * @var int
         * @cvalue CASHBACK_E_DISK_FULL
         */
        public const DISK_FULL = UNKNOWN;
        /**
         * @var int
         * @cvalue CASHBACK_E_NETWORK
         */
        public const NETWORK = UNKNOWN;
        /**
         * @var int
         * @cvalue CASHBACK_E_HTTP
         */
        public const HTTP = UNKNOWN;
        /**
         * @var int
         * @cvalue CASHBACK_E_AUTH
         */
        public const AUTH = UNKNOWN;
        /**
         * @var int
         * @cvalue CASHBACK_E_BUSY
         */
        public const BUSY = UNKNOWN;
        /**
         * @var int
         * @cvalue CASHBACK_E_TIMEOUT
         */
        public const TIMEOUT = UNKNOWN;
        /**
         * @var int
         * @cvalue CASHBACK_E_NOT_FOUND
         */
        public const NOT_FOUND = UNKNOWN;
        /**
         * @var int
         * @cvalue CASHBACK_E_PROTOCOL
         */
        public const PROTOCOL = UNKNOWN;
    }

    /**
     * A client of its own, configured per call (another merchant, another
     * spool) instead of from php.ini. Same methods as the functions above.
     *
     * @strict-properties
     * @not-serializable
     */
    final class Client
    {
        /** $connection: a connection string; $options: more keys (docs/onboarding.md), "config" loads a file. */
        public function __construct(?string $connection = null, array $options = []) {}

        public function merchantId(): string {}

        public function capture(?string $query = null, bool $send = true, bool $strict = false): ?string {}

        public function click(?string $cookie_header = null, bool $strict = false): ?string {}

        public function sale(array $order): string {}

        public function refund(array $refund): string {}

        public function cancel(array $order): string {}

        public function confirm(array $order): string {}

        public function status(): array {}

        public function flush(int $timeout_ms = 10000): bool {}

        public function quarantine(): array {}

        public function replay(?string $id = null): int {}
    }

    /** The worker's default client (configured from php.ini), as an object. */
    function client(): Client {}
}
