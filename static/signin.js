// The token form, laid over the map whenever the page has no usable token.

export class SignIn {
  #screen;
  #form;
  #input;
  #message;

  // onToken(token) runs with the trimmed token the user entered.
  constructor(root, onToken) {
    this.#screen = root.querySelector('#signin');
    this.#form = root.querySelector('#signin-form');
    this.#input = root.querySelector('#signin-token');
    this.#message = root.querySelector('#signin-message');
    this.#form.addEventListener('submit', (event) => {
      event.preventDefault();
      const token = this.#input.value.trim();
      if (token) onToken(token);
    });
  }

  show(message) {
    this.#message.textContent = message;
    this.#screen.hidden = false;
    this.#input.value = '';
    this.#input.focus();
  }

  hide() {
    this.#screen.hidden = true;
  }
}
