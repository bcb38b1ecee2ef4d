"""The seed tutorial's hand-written scorer: a Flask app serving the identity model on POST /score.

Run by `npm run bench:scorer` as the baseline, with Flask's own server and with gunicorn (2 sync workers):
    python3 bench/seed_flask_app.py PORT
    gunicorn -w 2 -b 127.0.0.1:PORT --chdir bench seed_flask_app:app
"""
import sys

from flask import Flask, jsonify, request

app = Flask(__name__)


def predict(x):
    """The identity model: the score is the input."""
    return x


@app.route("/score", methods=["POST"])
def score():
    x = request.get_json()["X"]
    return jsonify({"score": predict(x)})


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]))
