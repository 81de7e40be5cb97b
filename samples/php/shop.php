<?php
/*
 * The sample shop's own code: a catalogue and orders kept as JSON files.
 * Nothing here is about cashback; the lines that are carry a
 * "// cashback" comment in index.php, checkout.php, thankyou.php and
 * admin.php.
 */

const CATALOGUE = [
    'mug'    => ['name' => 'Mug',     'price' => '12.50', 'category' => 'kitchen'],
    'teapot' => ['name' => 'Teapot',  'price' => '37.40', 'category' => 'kitchen'],
];
const CURRENCY = 'EUR';

function shop_data_dir(): string
{
    $dir = getenv('SHOP_DATA') ?: sys_get_temp_dir() . '/cashback-sample-shop';
    if (!is_dir($dir)) {
        mkdir($dir, 0700, true);
    }
    return $dir;
}

function shop_save_order(array $order): void
{
    file_put_contents(shop_data_dir() . '/order-' . $order['id'] . '.json',
                      json_encode($order), LOCK_EX);
}

function shop_load_order(string $id): ?array
{
    if (!preg_match('/^[0-9]{1,18}$/', $id)) {
        return null;
    }
    $json = @file_get_contents(shop_data_dir() . '/order-' . $id . '.json');
    return $json === false ? null : json_decode($json, true);
}

function shop_new_order_id(): string
{
    return (string)random_int(100000, 999999999);
}

/* Adds decimal strings exactly (bcmath may be missing): via minor units. */
function shop_total(array $lines): string
{
    $cents = 0;
    foreach ($lines as $line) {
        [$units, $frac] = explode('.', $line['price']) + [1 => '00'];
        $cents += ((int)$units * 100 + (int)str_pad($frac, 2, '0')) * $line['quantity'];
    }
    return intdiv($cents, 100) . '.' . str_pad((string)($cents % 100), 2, '0', STR_PAD_LEFT);
}

function shop_page(string $title, string $body): void
{
    header('Content-Type: text/html; charset=utf-8');
    echo "<!doctype html><title>", htmlspecialchars($title), "</title>\n",
         "<h1>", htmlspecialchars($title), "</h1>\n", $body, "\n";
}
