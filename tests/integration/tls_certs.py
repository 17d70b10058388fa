"""Test certificates made with the `openssl` CLI (ECDSA P-256: fast to generate).

    ca = CertificateAuthority(directory, "Test CA")
    leaf = ca.issue("server", dns=["localhost"], ips=["127.0.0.1"])
    leaf.cert, leaf.key, leaf.serial, leaf.common_name

Every file is written under `directory`, readable by everyone (Dovecot reads its ssl files at
startup as root, but its unprivileged processes must traverse the directory).
"""

import dataclasses
import itertools
import os
import subprocess

DAYS = 30
_serials = itertools.count(0x1000)


def _run(argv):
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout


def new_key(path):
    """A PKCS#8 PEM P-256 private key at path."""
    _run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
          "-out", path])
    os.chmod(path, 0o644)
    return path


@dataclasses.dataclass
class Leaf:
    cert: str          # PEM certificate (the leaf alone: the CA signs it directly)
    key: str           # PEM private key
    serial: int
    common_name: str
    dns: tuple
    ips: tuple


class CertificateAuthority:
    def __init__(self, directory, name):
        self.dir = directory
        self.name = name
        os.makedirs(directory, exist_ok=True)
        slug = name.lower().replace(" ", "-")
        self.key = new_key(os.path.join(directory, f"{slug}.key"))
        self.cert = os.path.join(directory, f"{slug}.pem")
        _run(["openssl", "req", "-x509", "-new", "-key", self.key, "-subj", f"/CN={name}",
              "-days", str(DAYS), "-sha256", "-out", self.cert,
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign",
              "-addext", "subjectKeyIdentifier=hash"])

    def issue(self, basename, common_name=None, dns=(), ips=(), serial=None):
        """A server certificate and key as DIR/basename.pem and DIR/basename.key."""
        dns, ips = tuple(dns), tuple(ips)
        common_name = common_name or (dns[0] if dns else basename)
        serial = serial if serial is not None else next(_serials)
        key = new_key(os.path.join(self.dir, f"{basename}.key"))
        csr = os.path.join(self.dir, f"{basename}.csr")
        ext = os.path.join(self.dir, f"{basename}.ext")
        cert = os.path.join(self.dir, f"{basename}.pem")
        san = ",".join([f"DNS:{d}" for d in dns] + [f"IP:{i}" for i in ips])
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\n"
                    "keyUsage=critical,digitalSignature\n"
                    "extendedKeyUsage=serverAuth\n"
                    "subjectKeyIdentifier=hash\n"
                    "authorityKeyIdentifier=keyid\n"
                    + (f"subjectAltName={san}\n" if san else ""))
        _run(["openssl", "req", "-new", "-key", key, "-subj", f"/CN={common_name}", "-out", csr])
        _run(["openssl", "x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key,
              "-set_serial", str(serial), "-days", str(DAYS), "-sha256", "-extfile", ext,
              "-out", cert])
        os.chmod(cert, 0o644)
        return Leaf(cert, key, serial, common_name, dns, ips)


def server_set(directory):
    """What the TLS tests use: the test CA, the main server certificate (localhost,
    127.0.0.1), a second one for SNI, and a certificate for the same names from another CA."""
    ca = CertificateAuthority(directory, "Popgate Test CA")
    other_ca = CertificateAuthority(directory, "Other Test CA")
    return {
        "ca": ca,
        "other_ca": other_ca,
        "server": ca.issue("server", dns=["localhost"], ips=["127.0.0.1"]),
        "sni": ca.issue("sni", dns=["other.example.test"]),
        "foreign": other_ca.issue("foreign", dns=["localhost"], ips=["127.0.0.1"]),
    }
