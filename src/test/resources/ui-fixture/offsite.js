// The name is reserved (RFC 6761): were the browser's proxy not set, it would still never resolve.
fetch('http://weldr-ui-test.invalid/ping')
    .then(() => { document.getElementById('result').textContent = 'answered'; })
    .catch(() => { document.getElementById('result').textContent = 'refused'; });
