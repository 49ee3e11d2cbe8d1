document.getElementById('ran').textContent = 'yes';
console.error('fixture: a deliberate console error');
throw new Error('fixture: a deliberate uncaught error');
