// Submits the OAuth form_post response as soon as the page loads; the button is there for browsers without script.
document.getElementById("form-post").submit();
