document.getElementById('width').textContent = String(window.innerWidth);
