// What changing the example stack's IP must change, and nothing else: the checks before the IP
// moves (they run again for the new IP), the IP's routing, its virtual MAC, the container NIC, the
// gateway probe (it proves the new NIC again), the A records and, per zone, the proof that its name
// servers serve them. Shared by the tests that reach that diff by --set and by --against.
import { Step } from "../../bin/plan/model";

export const IP_CHANGE_STEPS: Record<string, Step["op"]> = {
    "proxy-ip-move-check": "update",
    "proxy-ip-routing": "update",
    "proxy-vmac": "replace",
    "proxy-nic-pct-set": "update",
    "proxy-gateway-arp": "replace",
    "proxy-dns-A-proxy1.example.org": "update",
    "proxy-dns-A-apex.example.net": "update",
    "proxy-dns-serves.example.org": "update",
    "proxy-dns-serves.example.net": "update",
};
