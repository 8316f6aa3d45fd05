/* "Use test data" fills the form with Stripe's test identity (DOB 1901-01-01 always verifies). */
(function () {
  'use strict';
  document.getElementById('use-test-data').addEventListener('click', function () {
    document.getElementById('first_name').value = 'Jenny';
    document.getElementById('last_name').value = 'Rosen';
    document.getElementById('dob').value = '1901-01-01';
  });
})();
