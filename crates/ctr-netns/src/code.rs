//! The error codes of this crate: stable strings (`ENETNS_*`), each with its
//! meaning and usual fix. `crates/ctr-codes` generates the TypeScript union and
//! `docs/errors.md` from this file; add a code here, then run `pnpm run codes`.

ctr_common::error_codes! {
    /// Codes of `ctr-netns`: network namespaces, links, bridge networks and NAT.
    pub enum Code {
        /// the address asked for is taken in the network
        AddressInUse = "ENETNS_ADDRESS_IN_USE" => "pick another address, or leave it to the network's allocator",
        /// the network namespace handle was closed
        Closed = "ENETNS_CLOSED" => "do not use a handle after close()",
        /// creating a network namespace or its mount point failed
        Create = "ENETNS_CREATE" => "run as root with /run/netns writable",
        /// removing a network namespace failed
        Delete = "ENETNS_DELETE" => "check nothing else holds its mount, then retry",
        /// the host's network facts could not be read
        Detect = "ENETNS_DETECT" => "mount /proc and /sys",
        /// a namespace, network, link or address exists already
        Exists = "ENETNS_EXISTS" => "pick another name, or open the existing one",
        /// the kernel rejected a netlink request as invalid (`errno`)
        Invalid = "ENETNS_INVALID" => "check the link kind, address and options are valid together",
        /// an ip address or gateway is malformed or outside the subnet
        InvalidAddress = "ENETNS_INVALID_ADDRESS" => "give an address inside the network's subnet",
        /// a mac address is malformed
        InvalidMac = "ENETNS_INVALID_MAC" => "write it as six hex pairs, e.g. 02:42:ac:11:00:02",
        /// a namespace, network or interface name is malformed (`path` names the field)
        InvalidName = "ENETNS_INVALID_NAME" => "use 1-15 characters without '/', ':' or spaces for links; plain names for namespaces",
        /// an option is malformed
        InvalidOption = "ENETNS_INVALID_OPTION" => "correct the option named in the message",
        /// a namespace path is malformed
        InvalidPath = "ENETNS_INVALID_PATH" => "give an absolute path without nul bytes",
        /// a pid is not a positive integer
        InvalidPid = "ENETNS_INVALID_PID" => "give the pid of a live process",
        /// a port or port range is malformed
        InvalidPort = "ENETNS_INVALID_PORT" => "use ports from 1 to 65535 and tcp or udp",
        /// a subnet is malformed
        InvalidSubnet = "ENETNS_INVALID_SUBNET" => "write it as an address and prefix length, e.g. 10.88.0.0/16",
        /// no address lease of that id in the network
        LeaseNotFound = "ENETNS_LEASE_NOT_FOUND" => "check the id; it may have been detached already",
        /// the network link does not exist
        LinkNotFound = "ENETNS_LINK_NOT_FOUND" => "check the link name in the namespace it lives in",
        /// listing the named namespaces failed
        List = "ENETNS_LIST" => "check /run/netns is readable",
        /// a netlink request failed (`errno`)
        Netlink = "ENETNS_NETLINK" => "read the errno in the message; run as root",
        /// the network does not exist
        NetworkNotFound = "ENETNS_NETWORK_NOT_FOUND" => "create it first, or check its name",
        /// libnftables refused a command
        Nft = "ENETNS_NFT" => "check the kernel has nf_tables; the message quotes nft's reason",
        /// NAT or published ports need libnftables.so.1, which is missing
        NftMissing = "ENETNS_NFT_MISSING" => "install the package named in the message (libnftables1)",
        /// the nftables table or rule does not exist
        NftNotFound = "ENETNS_NFT_NOT_FOUND" => "nothing to remove; it was deleted already",
        /// the network namespace does not exist
        NotFound = "ENETNS_NOT_FOUND" => "create it first, or check its name",
        /// the file is not a network namespace
        NotNetns = "ENETNS_NOT_NETNS" => "give a path like /run/netns/NAME or /proc/PID/ns/net",
        /// opening a network namespace failed
        Open = "ENETNS_OPEN" => "check the path exists and the caller may open it",
        /// the kernel refused a netlink request for lack of privilege
        Permission = "ENETNS_PERMISSION" => "run as root or with CAP_NET_ADMIN in the namespace",
        /// a host port asked for is published already
        PortInUse = "ENETNS_PORT_IN_USE" => "pick another host port",
        /// entering a network namespace failed
        Setns = "ENETNS_SETNS" => "run as root or with CAP_SYS_ADMIN over the namespace",
        /// the network state files could not be read or written
        State = "ENETNS_STATE" => "check /run/ctr-netns is writable; remove a corrupt file named in the message",
        /// no free address left in the network
        SubnetExhausted = "ENETNS_SUBNET_EXHAUSTED" => "use a larger subnet, or detach unused containers",
        /// the subnet overlaps another network or a host address
        SubnetOverlap = "ENETNS_SUBNET_OVERLAP" => "pick a subnet that no network or host interface uses",
        /// a network sysctl could not be written
        Sysctl = "ENETNS_SYSCTL" => "run as root; check the interface exists",
        /// the worker thread that enters namespaces failed
        Thread = "ENETNS_THREAD" => "report it with the message",
        /// an option spelled the old way (the message names the new spelling)
        RenamedOption = "ENETNS_RENAMED_OPTION" => "use the spelling the message names (ports are { hostPort, containerPort, protocol? })",
    }
}
