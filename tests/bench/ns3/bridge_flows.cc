// tests/bench/ns3/bridge_flows.cc -- the nearest ns-3 equivalents of
// vnetsim's full-path benchmarks, for a side-by-side speed comparison
// (docs/performance.md): two hosts joined through a BridgeNetDevice by
// 10 Gbit/s CSMA links; a UDP constant-bit-rate flow of 1472-byte
// datagrams (1514-byte frames) or a TCP bulk flow. Prints simulated frames
// per wall-second and simulated seconds per wall-second.
//
//   bridge_flows udp|tcp SIM_SECONDS
#include <chrono>
#include <cstdio>
#include <string>

#include "ns3/applications-module.h"
#include "ns3/bridge-module.h"
#include "ns3/core-module.h"
#include "ns3/csma-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"

using namespace ns3;

static uint64_t g_frames;

static void CountFrame(Ptr<const Packet>)
{
    g_frames++;
}

int main(int argc, char **argv)
{
    std::string mode = argc > 1 ? argv[1] : "udp";
    double simSeconds = argc > 2 ? std::stod(argv[2]) : 0.2;

    NodeContainer hosts, bridgeNode;
    hosts.Create(2);
    bridgeNode.Create(1);

    CsmaHelper csma;
    csma.SetChannelAttribute("DataRate", DataRateValue(DataRate("10Gbps")));
    csma.SetChannelAttribute("Delay", TimeValue(NanoSeconds(500)));
    csma.SetDeviceAttribute("Mtu", UintegerValue(1500));

    NetDeviceContainer hostDevs, bridgePorts;
    for (uint32_t i = 0; i < 2; i++) {
        NetDeviceContainer link = csma.Install(NodeContainer(hosts.Get(i), bridgeNode.Get(0)));
        hostDevs.Add(link.Get(0));
        bridgePorts.Add(link.Get(1));
    }
    BridgeHelper bridge;
    bridge.Install(bridgeNode.Get(0), bridgePorts);

    InternetStackHelper stack;
    stack.Install(hosts);
    Ipv4AddressHelper addr;
    addr.SetBase("10.0.0.0", "255.255.255.0");
    Ipv4InterfaceContainer ifs = addr.Assign(hostDevs);

    uint16_t port = 5001;
    ApplicationContainer sink, src;
    if (mode == "udp") {
        PacketSinkHelper ps("ns3::UdpSocketFactory", InetSocketAddress(Ipv4Address::GetAny(), port));
        sink = ps.Install(hosts.Get(1));
        OnOffHelper onoff("ns3::UdpSocketFactory", InetSocketAddress(ifs.GetAddress(1), port));
        onoff.SetConstantRate(DataRate("9.5Gbps"), 1472);
        src = onoff.Install(hosts.Get(0));
    } else {
        Config::SetDefault("ns3::TcpSocket::SegmentSize", UintegerValue(1448));
        Config::SetDefault("ns3::TcpSocket::SndBufSize", UintegerValue(4 << 20));
        Config::SetDefault("ns3::TcpSocket::RcvBufSize", UintegerValue(4 << 20));
        PacketSinkHelper ps("ns3::TcpSocketFactory", InetSocketAddress(Ipv4Address::GetAny(), port));
        sink = ps.Install(hosts.Get(1));
        BulkSendHelper bulk("ns3::TcpSocketFactory", InetSocketAddress(ifs.GetAddress(1), port));
        bulk.SetAttribute("MaxBytes", UintegerValue(0));
        src = bulk.Install(hosts.Get(0));
    }
    sink.Start(Seconds(0));
    src.Start(Seconds(0.001));
    src.Stop(Seconds(simSeconds));
    // Count frames as they leave the receiving host's link into the host.
    hostDevs.Get(1)->TraceConnectWithoutContext("MacRx", MakeCallback(&CountFrame));

    Simulator::Stop(Seconds(simSeconds));
    auto t0 = std::chrono::steady_clock::now();
    Simulator::Run();
    auto t1 = std::chrono::steady_clock::now();
    Simulator::Destroy();
    double wall = std::chrono::duration<double>(t1 - t0).count();

    std::printf("ns-3 %s: simulated %.3f s, %llu frames received, wall %.3f s, "
                "%.0f frames/wall-s, %.4f sim-s/wall-s\n",
                mode.c_str(), simSeconds, (unsigned long long)g_frames, wall, g_frames / wall,
                simSeconds / wall);
    return 0;
}
